"""Follow-the-sun routing: teams, shifts, presence, assignment, handover and on-call paging."""
