"""OpenAPI document tweaks."""


def strip_trailing_slashes(result, generator, request, public):
    """Routes answer with and without a trailing slash; the contract spells them without one."""
    result["paths"] = {
        (path.rstrip("/") if path != "/" else path): item for path, item in result.get("paths", {}).items()
    }
    return result
