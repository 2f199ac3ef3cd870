"""The Streamlit web app of the incubation pipeline tracker.

`streamlit_app.py` is the entrypoint (`incubator ui`); `app_pages/` holds the thin page
scripts that `st.navigation` runs, `views/` the page renderers (one function per panel),
`charts.py` and `tables.py` the pure frame and chart builders, `i18n.py` the two languages.
"""
