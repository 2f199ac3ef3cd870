"""Page script run by st.navigation: hands the run's context to `ui.views.account`."""

from ui.app_context import page_context
from ui.views import account

account.render(page_context())
