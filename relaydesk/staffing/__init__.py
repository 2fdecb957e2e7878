"""Staffing plans: agents needed per hour (Erlang C / Erlang A), checked by simulation."""
