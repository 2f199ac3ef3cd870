"""Page script run by st.navigation: hands the run's context to `ui.views.reports`."""

from ui.app_context import page_context
from ui.views import reports

reports.render(page_context())
