"""Page script run by st.navigation: hands the run's context to `ui.views.company`."""

from ui.app_context import page_context
from ui.views import company

company.render(page_context())
