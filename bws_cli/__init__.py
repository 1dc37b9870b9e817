"""`bws`: a command-line client for BWS-compatible services, over gRPC or REST."""
