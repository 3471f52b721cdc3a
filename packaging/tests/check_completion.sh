#!/usr/bin/env bash
# packaging/completion: the script that `portman completion bash` prints (the one the package
# installs) loads in a clean bash, registers _portman, and completes commands, flags and values.
set -euo pipefail
. "$(dirname "$0")/common.sh"
portman=$1
need bash
script=$(mktemp)
trap 'rm -f "$script"' EXIT
"$portman" completion bash > "$script"
bash --norc --noprofile -c '
  set -u
  source "$1" || { echo "the script does not load"; exit 1; }
  [[ "$(complete -p portman)" == *"-F _portman"* ]] || { echo "portman is not completed by _portman"; exit 1; }
  failed=0
  complete_words() {  # the last word of "$1" is the one being completed; a trailing space: ""
    read -ra COMP_WORDS <<<"$1"
    [[ "$1" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    _portman
  }
  expect() {  # expect "WORDS..." WORD: WORD is offered
    complete_words "$1"
    if [[ " ${COMPREPLY[*]} " != *" $2 "* ]]; then
      echo "[$1] completes to [${COMPREPLY[*]}], without $2"; failed=1
    fi
  }
  refuse() {  # refuse "WORDS..." WORD: WORD is not offered
    complete_words "$1"
    if [[ " ${COMPREPLY[*]} " == *" $2 "* ]]; then echo "[$1] offers $2"; failed=1; fi
  }
  expect "portman al" allocate
  expect "portman " validate
  expect "portman --registry /tmp/r.json sc" scan
  expect "portman allocate --ty" --type
  expect "portman allocate -t " database
  expect "portman list --status " needs_pairing
  expect "portman scan --fail-on" --fail-on-finding
  expect "portman scan --no-col" --no-color
  expect "portman agent --log.format " json
  expect "portman update 3000 " deprecated
  expect "portman completion " bash
  refuse "portman list --" --force
  refuse "portman allocate " --json
  exit $failed
' bash "$script" || fail "completion does not complete as expected"
echo "completion works"
