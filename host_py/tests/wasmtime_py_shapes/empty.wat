;; Shape after wasmtime-py tests/component/test_component.py::TestComponent::test_smoke
;; (also test_instance.py::TestInstance::test_smoke and test_types.py::TestTypes::test_component):
;; the smallest valid component. It imports nothing, exports nothing and has no core module,
;; so there is no memory, no realloc and nothing to call.
(component)
