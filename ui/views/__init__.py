"""Page renderers: `render(context)` per page, built from one function per panel."""
