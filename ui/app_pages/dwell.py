"""Page script run by st.navigation: hands the run's context to `ui.views.dwell`."""

from ui.app_context import page_context
from ui.views import dwell

dwell.render(page_context())
