-- Every rate in the finance marts is a proportion.
select 'default_rate_by_risk_band' as mart, risk_band as grain, default_rate as rate
from {{ ref('default_rate_by_risk_band') }} where default_rate not between 0 and 1
union all
select 'industry_approval_summary', industry, approval_rate
from {{ ref('industry_approval_summary') }} where approval_rate not between 0 and 1
union all
select 'mart_loan_metrics_by_risk', risk_band, approval_rate
from {{ ref('mart_loan_metrics_by_risk') }} where approval_rate not between 0 and 1 or default_rate not between 0 and 1
union all
select 'default_rate_by_industry_risk_band', industry || '/' || risk_band, default_rate
from {{ ref('default_rate_by_industry_risk_band') }} where default_rate not between 0 and 1
