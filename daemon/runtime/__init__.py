"""The imperative shell around the decision core: the daemon process, replay, snapshots."""
