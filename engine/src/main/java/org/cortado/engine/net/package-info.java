/** The net: layers wired over named blobs from a config, for one phase. */
package org.cortado.engine.net;
