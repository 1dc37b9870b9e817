"""The gRPC transport: interceptors, servicers and the server assembly."""
