"""The Mirror: a web page where a person sees and corrects their own self-model.

``create_mirror_router`` serves the pages under ``MIRROR_PATH`` (reached through a signed link).
The product's backend mints links and pushes resonance cards through the HTTP API
(``selfmodel.server.routes.mirror``). See docs/mirror.md.
"""

from selfmodel.mirror.pages import MIRROR_PATH, create_mirror_router

__all__ = ["MIRROR_PATH", "create_mirror_router"]
