"""Page script run by st.navigation: hands the run's context to `ui.views.board`."""

from ui.app_context import page_context
from ui.views import board

board.render(page_context())
