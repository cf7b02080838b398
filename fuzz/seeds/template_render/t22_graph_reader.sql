select {% for id, n in graph.nodes.items() if n.resource_type == 'seed' %}'{{ n.name }}' as s{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}
