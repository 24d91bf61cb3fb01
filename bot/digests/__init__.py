"""Daily "who's off" digests: the subscription syntax (``spec``), schedule arithmetic
(``schedule``), what a digest says (``content``), exactly-once posting (``poster``), the admins'
use cases (``admin``); their jobs are ``bot/jobs/digests.py``, ``timebot digest`` is ``bot/cli/digest.py``."""
