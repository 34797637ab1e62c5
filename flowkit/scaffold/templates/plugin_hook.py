@hookimpl
def $hook() -> list[type[$base]]:
    return [$cls]
