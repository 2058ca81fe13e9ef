"""REST path templates such as ``/api/patient/:id``: checking, matching and comparing them.

This module owns what a path template means. A template is split on ``/``; a segment
``:name`` is a variable that matches exactly one non-empty request segment, any other
segment must equal the request's segment exactly (case-sensitive). A request path's
trailing ``/`` is ignored, as in QEWD's router. The path passed in excludes the query
string and is already percent-decoded by the HTTP layer. It must not do I/O.
"""

from __future__ import annotations

# The methods the REST face serves; a route with any other method can never match.
HTTP_METHODS: frozenset[str] = frozenset(
    {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
)

Segments = tuple[str, ...]


def split_template(template: str) -> Segments:
    """The segments of a template or a request path, ignoring one trailing ``/``."""
    trimmed = template[1:] if template.startswith("/") else template
    if trimmed.endswith("/"):
        trimmed = trimmed[:-1]
    return tuple(trimmed.split("/")) if trimmed else ()


def template_problems(template: str) -> list[str]:
    """Sentences describing what is wrong with a template; empty when it is usable."""
    if not template.startswith("/"):
        return [f"path {template!r} must start with '/'"]
    reasons: list[str] = []
    if "?" in template or "#" in template:
        reasons.append(f"path {template!r} must not contain a query or fragment")
    body = template[1:]
    if not body:
        return reasons
    seen: set[str] = set()
    for segment in body.split("/"):
        if not segment:
            reasons.append(f"path {template!r} has an empty segment ('//' or a trailing '/')")
        elif segment.startswith(":"):
            name = segment[1:]
            if not name.isidentifier():
                reasons.append(f"path variable {segment!r} must be ':' and a name")
            elif name in seen:
                reasons.append(f"path variable {segment!r} appears twice")
            seen.add(name)
    return reasons


def match_segments(template: Segments, path: Segments) -> dict[str, str] | None:
    """The variables bound when ``path`` matches ``template``, or None when it does not."""
    if len(template) != len(path):
        return None
    bound: dict[str, str] = {}
    for pattern, actual in zip(template, path, strict=True):
        if pattern.startswith(":"):
            if not actual:
                return None
            bound[pattern[1:]] = actual
        elif pattern != actual:
            return None
    return bound


def template_shape(template: Segments) -> Segments:
    """The template with variable names erased: two templates of one shape match the same."""
    return tuple(":" if segment.startswith(":") else segment for segment in template)


def covers(earlier: Segments, later: Segments) -> bool:
    """True when every path ``later`` matches is also matched by ``earlier``."""
    if len(earlier) != len(later):
        return False
    for outer, inner in zip(earlier, later, strict=True):
        if outer.startswith(":"):
            continue
        if inner.startswith(":") or outer != inner:
            return False
    return True
