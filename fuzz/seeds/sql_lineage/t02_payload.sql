-- </script><script>alert(3)</script>
select 1 as """<b>", '<script>alert(4)</script>' as txt
