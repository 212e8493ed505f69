/* libFuzzer target for the Firecracker body and config-file readers: the
 * first byte picks a reader (each PUT body, PATCH machine-config, a drive
 * update, a network interface, its update, vsock, the entropy update, the
 * config file), the rest is the JSON text. Each input runs against a
 * config that already holds a boot source, two drives, a network
 * interface and a vsock, so that replacing, reordering and the conflict
 * checks are reached; after a success the result must survive GET
 * /vm/config and parse back. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/fc_config.h"
#include "api/fc_net.h"

#define READERS 14

static void seed(struct vm_config *cfg, char *err, size_t errlen)
{
	static const char base[] =
	    "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"drives\": ["
	    "{\"drive_id\": \"rootfs\", \"path_on_host\": \"r\", \"is_root_device\": true},"
	    "{\"drive_id\": \"d1\", \"path_on_host\": \"d\", \"is_root_device\": false}],"
	    "\"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
	    " \"guest_mac\": \"06:00:00:00:00:01\"}],"
	    "\"vsock\": {\"guest_cid\": 3, \"uds_path\": \"/v\"}}";
	struct fc_logger lg = {0};
	struct fc_metrics m = {0};

	if (fc_config_json(cfg, &lg, &m, base, sizeof(base) - 1, err, errlen))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	struct fc_logger lg = {0};
	struct fc_metrics m = {0};
	struct fc_drive_update u;
	struct fc_net_update nu;
	struct fc_rl_update eu;
	char err[512];
	json_t *body = NULL, *got;
	int rc = -1;

	if (size < 1)
		return 0;
	fc_config_init(&cfg);
	seed(&cfg, err, sizeof(err));
	if (data[0] % READERS == READERS - 1) {
		rc = fc_config_json(&cfg, &lg, &m, (const char *)data + 1, size - 1, err,
				    sizeof(err));
	} else {
		body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
		if (!body)
			goto out;
		switch (data[0] % READERS) {
		case 0:
			rc = fc_put_machine_config(&cfg, body, false, err, sizeof(err));
			break;
		case 1:
			rc = fc_put_machine_config(&cfg, body, true, err, sizeof(err));
			break;
		case 2:
			rc = fc_put_boot_source(&cfg, body, err, sizeof(err));
			break;
		case 3: {
			const json_t *id =
			    json_is_object(body) ? json_object_get(body, "drive_id") : NULL;

			rc = fc_put_drive(&cfg, json_is_string(id) ? json_string_value(id) : "d1",
					  body, err, sizeof(err));
			break;
		}
		case 4:
			rc = fc_put_entropy(&cfg, body, err, sizeof(err));
			break;
		case 5:
			rc = fc_put_logger(&lg, body, err, sizeof(err));
			break;
		case 6:
			rc = fc_put_metrics(&m, body, err, sizeof(err));
			break;
		case 7:
			rc = fc_parse_drive_update("d1", body, &u, err, sizeof(err));
			if (!rc)
				rc = fc_apply_drive_update(&cfg, &u, err, sizeof(err));
			break;
		case 9: {
			const json_t *id =
			    json_is_object(body) ? json_object_get(body, "iface_id") : NULL;

			rc = fc_put_net(&cfg, json_is_string(id) ? json_string_value(id) : "eth0",
					body, err, sizeof(err));
			break;
		}
		case 10:
			rc = fc_parse_net_update("eth0", body, &nu, err, sizeof(err));
			if (!rc)
				rc = fc_apply_net_update(&cfg, &nu, err, sizeof(err));
			break;
		case 11:
			rc = fc_put_vsock(&cfg, body, err, sizeof(err));
			break;
		case 12:
			rc = fc_parse_entropy_update(body, &eu, err, sizeof(err));
			if (!rc)
				fc_rl_update_limits(&eu, &cfg.rng_rl, &cfg.rng_rl);
			break;
		default:
			rc = fc_config_prepare(&cfg, err, sizeof(err));
			break;
		}
	}
	if (rc)
		goto out;
	/* Whatever was accepted must be reported in a shape that reads back. */
	got = fc_get_vm_config(&cfg, &lg, &m);
	if (!got)
		abort();
	{
		char *text = json_dumps(got, 0);
		struct vm_config back;
		struct fc_logger lb = {0};
		struct fc_metrics mb = {0};

		fc_config_init(&back);
		if (!text || fc_config_json(&back, &lb, &mb, text, strlen(text), err, sizeof(err)))
			abort();
		if (back.nr_disks != cfg.nr_disks || back.cpus != cfg.cpus ||
		    back.memory != cfg.memory || back.nr_nets != cfg.nr_nets ||
		    back.vsock_cid != cfg.vsock_cid || !back.vsock_uds != !cfg.vsock_uds)
			abort();
		for (int i = 0; i < cfg.nr_nets; i++)
			if (memcmp(&back.nets[i].rx_rl, &cfg.nets[i].rx_rl,
				   sizeof(cfg.nets[i].rx_rl)) ||
			    memcmp(&back.nets[i].tx_rl, &cfg.nets[i].tx_rl,
				   sizeof(cfg.nets[i].tx_rl)) ||
			    back.nets[i].mtu != cfg.nets[i].mtu ||
			    strcmp(back.nets[i].tap, cfg.nets[i].tap))
				abort();
		free(text);
		fc_logger_free(&lb);
		fc_metrics_free(&mb);
		config_free(&back);
	}
	json_decref(got);
	json_decref(fc_get_machine_config(&cfg));
out:
	json_decref(body);
	fc_logger_free(&lg);
	fc_metrics_free(&m);
	config_free(&cfg);
	return 0;
}
