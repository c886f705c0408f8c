;; Attacks: assuming a component has any core module, memory or export. It has nothing.
(component)
