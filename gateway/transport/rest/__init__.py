"""The REST side: a grpc-gateway-style transcoder driven by google.api.http
annotations. Routes come from descriptors; each REST call is forwarded as a
real gRPC call to this process' own server, so it passes the same
interceptors (auth, tenants, metadata, timing) as any gRPC client's call."""
