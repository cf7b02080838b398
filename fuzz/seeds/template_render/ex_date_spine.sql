{{ date_spine(var('spine_start'), var('spine_end')) }}
