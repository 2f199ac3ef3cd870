"""Page script run by st.navigation: hands the run's context to `ui.views.funnel`."""

from ui.app_context import page_context
from ui.views import funnel

funnel.render(page_context())
