"""The Inspector: an operator's web page for debugging answers, on the server's own socket.

Signed in with a workspace admin key, an operator sees the workspace's users, each one's
self-model, their traces with every item's scores, replays a trace under another configuration
with the diff, asks "why not X?" and follows an item's lineage. See docs/debugging.md.
"""

from selfmodel.inspector.pages import INSPECTOR_PATH, create_inspector_router

__all__ = ["INSPECTOR_PATH", "create_inspector_router"]
