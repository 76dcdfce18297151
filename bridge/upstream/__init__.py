"""bridge.upstream"""

__all__: list[str] = []
