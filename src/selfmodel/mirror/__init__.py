"""The Mirror: a web page where a person sees and corrects their own self-model.

``create_mirror_router`` serves the pages (reached through a signed link);
``create_mirror_api_router`` gives the product's backend the routes to mint links and push
resonance cards. See docs/mirror.md.
"""

from selfmodel.mirror.api import create_mirror_api_router
from selfmodel.mirror.pages import create_mirror_router

__all__ = ["create_mirror_api_router", "create_mirror_router"]
