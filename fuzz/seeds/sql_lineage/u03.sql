select 'abc
from t