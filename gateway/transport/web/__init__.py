"""Browser-facing HTTP extras: the capture page, CORS for /extension/, the
developer demo route and the API docs. Registered by gateway.app."""
