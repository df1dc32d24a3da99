#!/bin/sh
# Runs in the instance before the app starts, like EC2 user data: here it records when the
# instance was set up, in the instance's own copy of the files.
echo "user data: setting up $TIDE_INSTANCE_ID at $(date -u +%H:%M:%S)"
date -u > setup-done.txt
