"""Daily "who's off" digests: the subscription syntax (``spec``), schedule arithmetic
(``schedule``), what a digest says (``content``), exactly-once posting (``poster``), the admins'
use cases (``admin``), and the APScheduler adapter (``scheduler``); ``timebot digest`` is ``bot/cli/digest.py``."""
