#!/bin/sh
echo "Criterion was not found at configure time: install libcriterion-dev and re-run ./configure" >&2
exit 1
