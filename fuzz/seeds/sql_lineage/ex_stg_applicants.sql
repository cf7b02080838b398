select
    applicant_id,
    trim(business_name) as business_name,
    lower(industry) as industry,
    upper(state) as state,
    years_in_business,
    cast(annual_revenue as decimal(14, 2)) as annual_revenue,
    cast(created_at as date) as created_at
from raw_applicants
