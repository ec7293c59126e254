"""The web layer: the installer's and owner's pages, the REST and WebSocket API, metrics.

`create_app(service)` builds a FastAPI app over one running `Service`; nothing is global.
"""

from panelpilot.web.app import create_app

__all__ = ["create_app"]
