"""isms-bridge: an SMPP 3.4 server that hands messages to the iSMS HTTP gateway."""

__version__ = "0.1.0"

__all__ = ["__version__"]
