#!/usr/bin/env node
import { main } from './runWorkerProcess';

main('scoring');
