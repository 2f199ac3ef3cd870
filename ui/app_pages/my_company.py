"""Page script run by st.navigation: hands the run's context to `ui.views.my_company`."""

from ui.app_context import page_context
from ui.views import my_company

my_company.render(page_context())
