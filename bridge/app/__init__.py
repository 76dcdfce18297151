"""bridge.app"""

__all__: list[str] = []
