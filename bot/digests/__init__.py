"""Daily "who's off" digests: the subscription syntax (``spec``), schedule arithmetic
(``schedule``), what a digest says (``content``), exactly-once posting (``poster``), the admins'
use cases (``admin``), the APScheduler adapter (``scheduler``) and ``timebot digest`` (``cli``)."""
