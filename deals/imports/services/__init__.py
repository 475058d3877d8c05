"""Import jobs: upload → dry run → commit in one transaction, with bulk writes.

A commit re-plans the file inside its transaction (the data may have changed since the
dry run) and then writes every planned row in batches. With "abort if any row fails" one
bad row means nothing is written; with "import valid rows only" the bad rows are left out.
Re-running a file matches rows to what the first run wrote (external id, else the natural
key), so it creates nothing new.

One module per job: `jobs` (upload, dry run, queue), `commit` (the transaction and its
progress), `writes` (the bulk writes), `common`. Callers import from here; a test that
replaces a helper of the writes patches `deals.imports.services.writes`.
"""

from deals.imports.services.commit import import_job_commit
from deals.imports.services.common import BATCH_SIZE, CHANGE_REASON, HEALTH_PER_DEAL_LIMIT, ZERO
from deals.imports.services.jobs import (
    import_job_create,
    import_job_list,
    import_job_progress,
    import_job_queue_commit,
    import_job_validate,
    import_teams,
    team_reps,
)

__all__ = [
    "BATCH_SIZE",
    "CHANGE_REASON",
    "HEALTH_PER_DEAL_LIMIT",
    "ZERO",
    "import_job_commit",
    "import_job_create",
    "import_job_list",
    "import_job_progress",
    "import_job_queue_commit",
    "import_job_validate",
    "import_teams",
    "team_reps",
]
