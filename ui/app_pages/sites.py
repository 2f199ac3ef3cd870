"""Page script run by st.navigation: hands the run's context to `ui.views.sites`."""

from ui.app_context import page_context
from ui.views import sites

sites.render(page_context())
