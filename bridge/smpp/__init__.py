"""bridge.smpp"""

__all__: list[str] = []
