"""Connected exchange accounts kept in step with the trade log: the sync (``sync``), the
reconciliation of one read with the log (``reconcile``) and the messages it sends
(``alerts``). The cycle runs it for every account; ``/sync`` for one user's."""
