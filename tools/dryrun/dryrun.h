// The dry-run: replay logged traffic through two policies and price the difference.
#pragma once
