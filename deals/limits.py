"""How many ids or rows one request may carry in a list (documented in the API schema as
maxItems). Past these a request is a 400 before anything is resolved or written: a list
of 10,000 ids would otherwise run past gunicorn's timeout."""

MAX_NEEDS_PER_LINE_ITEM = 50
MAX_ATTENDEES_PER_CALL = 50
MAX_NEEDS_PER_CALL = 50
MAX_MILESTONES_PER_CALL = 50
