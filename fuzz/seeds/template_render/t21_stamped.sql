select '{{ invocation_id }}' as run
