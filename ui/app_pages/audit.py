"""Page script run by st.navigation: hands the run's context to `ui.views.audit`."""

from ui.app_context import page_context
from ui.views import audit

audit.render(page_context())
