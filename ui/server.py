"""The web server: the Streamlit app behind sign-in. `incubator ui` runs it.

    streamlit run ui/server.py

Streamlit finds `app` below (an `st.App`) and serves it with uvicorn: the app script
`streamlit_app.py`, plus the sign-in routes and the session gate of `ui.web_auth`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # imported as `server` by `streamlit run ui/server.py`
    _root = str(Path(__file__).resolve().parent.parent)
    if _root not in sys.path:
        sys.path.insert(0, _root)

import streamlit as st
from starlette.middleware import Middleware

from ui.web_auth import SessionGate, routes

app = st.App("streamlit_app.py", routes=routes(), middleware=[Middleware(SessionGate)])
