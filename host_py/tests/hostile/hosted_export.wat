;; Attacks: an export borrowing a resource the host implements (the host cannot yet lend
;; its own objects to the guest through an export): refused at load, naming it.
(component
  (import "test:hostile/hosted" (instance $h
    (export "r" (type $r (sub resource)))
  ))
  (alias export $h "r" (type $r))
  (core module $m
    (func (export "keep") (param i32)))
  (core instance $i (instantiate $m))
  (func (export "keep") (param "x" (borrow $r)) (canon lift (core func $i "keep")))
)
