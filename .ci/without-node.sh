#!/usr/bin/env bash
# Run a command with no node, npm, npx or corepack on PATH, as on a machine without Node.js.
# Node sits in /usr/bin beside everything else, so a PATH folder that holds it is replaced by a
# folder of links to its other programs; folders without it (a venv's bin/) stay as they are.
set -euo pipefail
NODE='node nodejs npm npx corepack'
farms=$(mktemp -d)
trap 'rm -rf "$farms"' EXIT
path=
IFS=: read -r -a folders <<<"$PATH"
for i in "${!folders[@]}"; do
    folder=${folders[$i]}
    has_node=false
    for name in $NODE; do [ -e "$folder/$name" ] && has_node=true; done
    if $has_node; then
        mkdir "$farms/$i"
        for program in "$folder"/*; do
            case " $NODE " in *" ${program##*/} "*) continue ;; esac
            ln -s "$program" "$farms/$i/"
        done
        folder=$farms/$i
    fi
    path=${path:+$path:}$folder
done
for name in $NODE; do
    if PATH=$path command -v "$name" >/dev/null; then
        echo "without-node.sh: $name is still on PATH" >&2
        exit 1
    fi
done
PATH=$path "$@"
