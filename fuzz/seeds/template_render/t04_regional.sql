select '{{ env_var('MODELC_CACHE_TEST_REGION', 'eu') }}' as region
