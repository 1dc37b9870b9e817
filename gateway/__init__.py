"""bws-gateway: a self-hostable server for the BioID Web Service (BWS) APIs."""
__version__ = "0.1.0"
